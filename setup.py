"""Only what pyproject.toml cannot say: the top-level weights/ folder ships inside the package.

The shipped toy models live in weights/ (the repository's layout); a wheel carries them as the
data package `latentjax._weights`, so `pip install .` (not only `-e`) can load `toyfaces-sg2`.
latentjax/load.py looks in the installed copy first, then in the checkout's weights/.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["latentjax", "latentjax.*"]), "latentjax._weights"],
    package_dir={"latentjax._weights": "weights"},
    package_data={
        "latentjax._weights": ["*.json", "**/*"],
        "latentjax.studio": ["static/*.html", "static/*.js", "static/*.css"],  # the studio page, offline
    },
)
