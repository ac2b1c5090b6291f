_base_ = './base.py'
custom_imports = dict(imports=['my_modules.marker'])
