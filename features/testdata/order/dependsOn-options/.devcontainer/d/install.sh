#!/bin/sh
echo installing d
