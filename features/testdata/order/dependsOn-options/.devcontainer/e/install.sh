#!/bin/sh
echo installing e
