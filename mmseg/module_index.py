"""Imports every module of the registering packages so their classes register.

Importing this module is what ``register_all_modules()`` does; the registries
in :mod:`mmseg.registry` name it as their location, so a build from a config
triggers it on first use.
"""
import importlib
import pkgutil

REGISTERING_PACKAGES = ('mmseg.models', 'mmseg.datasets', 'mmseg.evaluation',
                        'mmseg.engine')


def _import_tree(package_name: str) -> None:
    package = importlib.import_module(package_name)
    for info in pkgutil.walk_packages(package.__path__, package_name + '.'):
        importlib.import_module(info.name)


for _name in REGISTERING_PACKAGES:
    _import_tree(_name)
