"""arctl: unattended, tamper-proof autoresearch for tabular machine learning.

The package is spread over the repository's top-level folders, each a source root holding
its part of `arctl` (see docs/design.md, "Layout"): controller/arctl (this file, the host),
sandbox/arctl/sandbox, harness/arctl/harness and artifact/arctl/artifact. An installed wheel
holds them in one directory; an editable install puts the four roots on sys.path.
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
__version__ = "0.2.0"
