#!/bin/sh
echo installing a
