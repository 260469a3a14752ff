"""Files copied into a user's workspace: the baseline train.py, program.md, the offline catalog."""

from importlib import resources
from pathlib import Path

ROOT = Path(str(resources.files(__name__)))
