#!/bin/sh
set -e
mkdir -p /opt/hello
echo "$GREETING" > /opt/hello/greeting
