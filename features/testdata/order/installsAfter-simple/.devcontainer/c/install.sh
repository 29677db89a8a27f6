#!/bin/sh
echo installing c
