#!/bin/sh
set -e
printf '#!/bin/sh\nexec "$@"\n' > /usr/local/share/a-init.sh
chmod +x /usr/local/share/a-init.sh
echo "installed $GREETING"
