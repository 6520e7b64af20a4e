"""Maps the top-level folders envs/, agents/, credit/, trainers/ to turnrl.* subpackages.

pyproject.toml holds the metadata; setuptools cannot express "every subpackage of a folder,
renamed" declaratively, so the package list is computed here.
"""
from setuptools import find_packages, setup

ROOTS = {"turnrl": "turnrl", "turnrl.envs": "envs", "turnrl.agents": "agents",
         "turnrl.credit": "credit", "turnrl.trainers": "trainers"}

packages, package_dir = [], {}
for name, folder in ROOTS.items():
    package_dir[name] = folder
    packages.append(name)
    packages += [f"{name}.{sub}" for sub in find_packages(folder)]

setup(packages=packages, package_dir=package_dir,
      package_data={"turnrl": ["assets/**/*"], "turnrl.agents": ["assets/**/*"]})
