"""Process setup shared by the entry points."""
import importlib

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import all registering modules and make ``mmseg`` the default scope."""
    importlib.import_module('mmseg.module_index')
    if init_default_scope and not DefaultScope.check_instance_created('mmseg'):
        DefaultScope.get_instance('mmseg', scope_name='mmseg')
