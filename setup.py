"""Builds the native core (cffi, API mode) and the static stub with `pip install .`."""
import os
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "native"))
import build as native_build  # noqa: E402


class BuildWithStub(build_py):
    """Link native/stub.S next to the package's modules."""

    def run(self):
        super().run()
        target = os.path.join(self.build_lib, "pylinuxabi", "stub")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        native_build.build_stub(target)
        if self.editable_mode:
            native_build.build_stub(os.path.join("src", "pylinuxabi", "stub"))


setup(
    cffi_modules=["native/build.py:ffibuilder"],
    cmdclass={"build_py": BuildWithStub},
)
