#!/bin/sh
touch /tmp/mochi-hostile-pwned
