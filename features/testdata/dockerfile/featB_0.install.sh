#!/bin/sh
set -e

on_exit () {
	[ $? -eq 0 ] && exit
	echo 'ERROR: Feature "Feature B" (./featB) failed to install!'
}

trap on_exit EXIT

echo ===========================================================================

echo 'Feature       : Feature B'
echo 'Description   : '
echo 'Id            : ./featB'
echo 'Version       : 2.0.0'
echo 'Documentation : '
echo 'Options       :'
echo '    VERSION="9.9"
    OTHER="true"'
echo ===========================================================================

set -a
. ../devcontainer-features.builtin.env
. ./devcontainer-features.env
set +a

chmod +x ./install.sh
./install.sh
