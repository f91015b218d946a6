"""Deterministic fault points for tests/test_rerun_integrity.py, active only in processes started
with this directory on PYTHONPATH (Python imports ``sitecustomize`` at start-up).

Every file a step publishes goes through ``os.replace`` (atomic writes). With
``PYSPK_KILL_AFTER=<glob>``, the first replace whose destination path matches the glob is done and
then the whole step (its process group: the shell step, the launcher, every job) gets SIGKILL, as
``kill -9`` of the step would. With ``PYSPK_FAIL_AT=<glob>`` that replace raises OSError instead (the
job fails with an error, its file never appears).
"""
import fnmatch
import os
import signal

_replace = os.replace
_kill_after = os.environ.get("PYSPK_KILL_AFTER")
_fail_at = os.environ.get("PYSPK_FAIL_AT")


def _faulty_replace(src, dst, *args, **kwargs):
    name = os.path.abspath(os.fspath(dst))
    if _fail_at and fnmatch.fnmatch(name, _fail_at):
        raise OSError(f"fault injected: cannot write {dst}")
    _replace(src, dst, *args, **kwargs)
    if _kill_after and fnmatch.fnmatch(name, _kill_after):
        os.killpg(os.getpgrp(), signal.SIGKILL)


if _kill_after or _fail_at:
    os.replace = _faulty_replace
