#!/bin/sh
echo renamed
