#!/bin/sh
set -e

on_exit () {
	[ $? -eq 0 ] && exit
	echo 'ERROR: Feature "Feature A" (./featA) failed to install!'
}

trap on_exit EXIT

echo ===========================================================================

echo 'Feature       : Feature A'
echo 'Description   : It'\''s A'
echo 'Id            : ./featA'
echo 'Version       : 1.0.0'
echo 'Documentation : '
echo 'Options       :'
echo '    GREETING="hello world"
    _ST_FLAG="true"'
echo ===========================================================================

set -a
. ../devcontainer-features.builtin.env
. ./devcontainer-features.env
set +a

chmod +x ./install.sh
./install.sh
