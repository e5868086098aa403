#!/usr/bin/env bash
# Installs what the reference trainer needs, from Debian's packages: python3-torch (PyTorch for /usr/bin/python3)
# and libopenblas0-pthread (an optimised BLAS; without it PyTorch falls back to the reference BLAS, ~6x slower).
# Idempotent: does nothing when both are there. Prints the Python to use.
set -euo pipefail
python=/usr/bin/python3
need=()
"$python" -c "import torch" > /dev/null 2>&1 || need+=(python3-torch)
[ -e /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 ] || [ -e /usr/lib/aarch64-linux-gnu/openblas-pthread/libblas.so.3 ] || need+=(libopenblas0-pthread)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]} (Debian packages) for the reference trainer..." >&2
  install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" > /dev/null 2>&1; }
  if [ "$(id -u)" = 0 ]; then
    install || { apt-get update -q > /dev/null 2>&1 && install; }
  else
    sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" > /dev/null
  fi
fi
"$python" -c "import torch" > /dev/null 2>&1 || { echo "python3-torch could not be installed" >&2; exit 1; }
echo "$python"
