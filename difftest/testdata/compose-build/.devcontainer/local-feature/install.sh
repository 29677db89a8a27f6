#!/bin/sh
set -e
mkdir -p /usr/local/share
echo "$GREETING" > /usr/local/share/feature-greeting
