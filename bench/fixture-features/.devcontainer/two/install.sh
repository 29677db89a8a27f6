#!/bin/sh
set -e
mkdir -p /opt/two
echo "level $LEVEL" > /opt/two/info
