#!/bin/sh
set -e
mkdir -p /opt/record
{
	echo "pwd=$(pwd)"
	env | grep -v -E '^(HOSTNAME|OLDPWD)=' | sort
	echo "--- devcontainer-features.env"
	cat devcontainer-features.env; echo
	echo "--- ../devcontainer-features.builtin.env"
	cat ../devcontainer-features.builtin.env
} > /opt/record/featB.txt
