"""Build configuration that pyproject.toml cannot express: the shipped rules are package data.

The rules live in the top-level ``rules/`` folder (the project's shape: rules are data, edited as
such), and an installed lsf must have them: ``rules/`` is mapped to the package
``lsforensics.rules_data``, so a wheel carries ``lsforensics/rules_data/*.yaml`` (and any
``references/``), which :func:`lsforensics.rules.shipped_rules_dir` finds. Everything else is in
pyproject.toml; ``tests/test_install.py`` builds the wheel and runs it outside the checkout.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["lsforensics", "lsforensics.*"]), "lsforensics.rules_data"],
    package_dir={"lsforensics.rules_data": "rules"},
)
