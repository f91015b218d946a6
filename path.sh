# Sourced by run.sh, every step script and .ci/run: makes the Python environment.
# On first use it creates .venv (Python 3.11), installs requirements.txt and torch==2.13.0, and the
# pyspk package itself, editable (pip install --no-deps -e .: importable from a notebook).
# If the system Python already has a CUDA build of torch, the venv sees it
# (--system-site-packages) and torch is not installed again.
PYSPK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PYSPK_ROOT
export LC_ALL=C
export PYTHONUNBUFFERED=1
export PYTHONPATH="$PYSPK_ROOT${PYTHONPATH:+:$PYTHONPATH}"
export PATH="$PYSPK_ROOT/utils:$PATH"
export MPLBACKEND=Agg

_pyspk_make_venv() {
  local py=${PYSPK_PYTHON:-python3.11}
  command -v "$py" >/dev/null 2>&1 || py=python3
  local venv_opts="" torch_req="torch==2.13.0"
  if "$py" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    venv_opts="--system-site-packages"
    torch_req=""
    echo "path.sh: using the system's CUDA torch" >&2
  fi
  echo "path.sh: creating $PYSPK_ROOT/.venv (first use; about a minute)" >&2
  rm -rf "$PYSPK_ROOT/.venv"
  "$py" -m venv $venv_opts "$PYSPK_ROOT/.venv" &&
    "$PYSPK_ROOT/.venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      -r "$PYSPK_ROOT/requirements.txt" $torch_req \
      2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2) &&
    "$PYSPK_ROOT/.venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e "$PYSPK_ROOT" &&
    cp "$PYSPK_ROOT/requirements.txt" "$PYSPK_ROOT/.venv/requirements.installed"
}

# The venv is complete only once its stamp (a copy of requirements.txt) exists and matches.
if ! cmp -s "$PYSPK_ROOT/requirements.txt" "$PYSPK_ROOT/.venv/requirements.installed"; then
  _pyspk_make_venv || { echo "path.sh: could not create .venv" >&2; return 1 2>/dev/null || exit 1; }
fi
export PATH="$PYSPK_ROOT/.venv/bin:$PATH"
export VIRTUAL_ENV="$PYSPK_ROOT/.venv"
