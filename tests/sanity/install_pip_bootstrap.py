"""Give ansible-test a pip bootstrap script that works without its download host.

ansible-test creates a virtual environment per sanity test and bootstraps pip
in it with a get-pip script from its own download host, which this
project's machines cannot reach (only the package registries). The stand-in
below bootstraps the pip bundled with Python (ensurepip), then lets that pip
install the exact pip version ansible-test asked for, from PyPI.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import ansible_test

SHIM = '''"""ansible-test pip bootstrap stand-in written by tests/sanity/install_pip_bootstrap.py."""
import subprocess
import sys

# get-pip.py takes pip install arguments, plus options of its own.
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
# In a child process: ensurepip points PIP_CONFIG_FILE at /dev/null in its own
# environment, which would hide the machine's pip configuration from the install.
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *args]))
'''


def main() -> int:
    source = Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
    match = re.search(r"pip='([0-9.]+)'", source.read_text())
    if not match:
        print(f"cannot find ansible-test's pip version in {source}", file=sys.stderr)
        return 1
    cache = Path(os.path.expanduser("~/.ansible/test/cache"))
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / f"get_pip_{match.group(1).replace('.', '_')}.py"
    if not target.exists() or "install_pip_bootstrap" in target.read_text():
        target.write_text(SHIM)
    return 0


if __name__ == "__main__":
    sys.exit(main())
