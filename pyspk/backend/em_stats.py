"""What every EM accumulator shares: a dataclass of float64 arrays and scalar totals, summed over
parallel jobs with ``+=`` and stored as one ``.npz`` (one file per job, atomically written)."""
import dataclasses

import numpy as np

from pyspk.io.atomic import atomic_write


class StatsError(ValueError):
    """An unreadable statistics file, or statistics of another model's shape."""


class EmStats:
    """Base of the EM statistics dataclasses: every field is added by ``+=`` (shapes must agree), saved
    and loaded by name; scalar fields (totals such as the log-likelihood or the frame count) keep their
    Python type."""

    WHAT = "statistics"   # for error messages: "not a <WHAT> file"

    def __iadd__(self, other):
        for field in dataclasses.fields(self):
            mine, theirs = np.shape(getattr(self, field.name)), np.shape(getattr(other, field.name))
            if mine != theirs:
                raise StatsError(f"cannot add {self.WHAT} of {field.name} shapes {theirs} and {mine}")
        for field in dataclasses.fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))
        return self

    def save(self, path):
        with atomic_write(path, "wb") as f:
            np.savez(f, **{field.name: np.asarray(getattr(self, field.name)) for field in dataclasses.fields(self)})

    @classmethod
    def load(cls, path):
        try:
            with np.load(path) as z:
                values = {}
                for field in dataclasses.fields(cls):
                    value = z[field.name]
                    values[field.name] = value.item() if value.ndim == 0 else value
                return cls(**values)
        except (OSError, KeyError, ValueError) as e:
            raise StatsError(f"{path}: not a {cls.WHAT} file ({type(e).__name__}: {e})") from None
