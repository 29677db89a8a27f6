package workspace

import (
	"context"
	"fmt"
	"strings"

	"github.com/mochi-dev/mochi/providers"
)

// dotfilesScript clones the dotfiles repository once per container (marker in the user's data
// folder) and runs its install script, or links its dot-files into $HOME.
const dotfilesScript = `MARKER="$1"; REPO="$2"; TARGET="$3"; CMD="$4"
test ! -f "$MARKER" && (set -o noclobber; mkdir -p "$(dirname "$MARKER")" && { > "$MARKER" ; } 2>/dev/null) || { echo dotfiles marker found; exit 0; }
command -v git >/dev/null 2>&1 || { echo git not found; exit 1; }
[ -e "$TARGET" ] || git clone --depth 1 "$REPO" "$TARGET" || exit $?
cd "$TARGET" || exit 1
if [ -n "$CMD" ]; then
  [ -f "$CMD" ] || { echo "Could not locate '$CMD'..."; exit 126; }
  [ -x "$CMD" ] || chmod +x "$CMD"
  exec "./$CMD"
fi
for f in install.sh install bootstrap.sh bootstrap script/bootstrap setup.sh setup script/setup; do
  if [ -e "$f" ]; then [ -x "$f" ] || chmod +x "$f"; echo "Executing command $TARGET/$f..."; exec "./$f"; fi
done
dots=$(ls -d "$TARGET"/.* 2>/dev/null | grep -v -E '/(\.|\.\.|\.git)$')
if [ -n "$dots" ]; then echo Linking dotfiles: $dots; ln -sf $dots ~ 2>/dev/null; else echo No dotfiles found.; fi
`

// installDotfiles installs the user's dotfiles; a failure is reported, never fatal.
func (e *Engine) installDotfiles(ctx context.Context, s *session, d Dotfiles) {
	repo := d.Repository
	if !strings.Contains(repo, ":") && !strings.HasPrefix(repo, "/") && !strings.HasPrefix(repo, ".") && strings.Count(repo, "/") == 1 {
		repo = "https://github.com/" + repo + ".git"
	}
	target := d.TargetPath
	if target == "" {
		target = "~/dotfiles"
	}
	if strings.HasPrefix(target, "~/") {
		target = s.home + target[1:]
	}
	fmt.Fprintf(e.out, "Installing dotfiles from %s...\n", d.Repository)
	code, err := e.execer(ctx, s.inst, s.shell).Exec(ctx, s.inst.ID, providers.ExecSpec{
		Cmd:  []string{"/bin/sh", "-c", dotfilesScript, "mochi-dotfiles", s.dataDir + "/.dotfilesMarker", repo, target, d.InstallCommand},
		User: s.user, Env: envList(s.env), WorkDir: s.home, Stdout: e.out, Stderr: e.out,
	})
	if err != nil || code != 0 {
		e.log.Warn("Installing dotfiles failed.", "exit", code, "error", err)
	}
}
