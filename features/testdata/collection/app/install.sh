#!/bin/sh
echo app level $LEVEL
