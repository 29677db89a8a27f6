#!/bin/sh
echo installing b
