#!/usr/bin/env bash
# The GPUs this machine's jobs may use, one index per line (nothing when there is none):
# CUDA_VISIBLE_DEVICES's entries when it is set (empty or -1: none), else nvidia-smi's list.
if [ -n "${CUDA_VISIBLE_DEVICES+set}" ]; then
  [[ -z $CUDA_VISIBLE_DEVICES || $CUDA_VISIBLE_DEVICES == -* ]] || tr , '\n' <<< "$CUDA_VISIBLE_DEVICES"
elif command -v nvidia-smi > /dev/null; then
  nvidia-smi --query-gpu=index --format=csv,noheader 2>/dev/null
fi
exit 0
