custom_imports = dict(imports=['not_this_one'], allow_failed_imports=False)
