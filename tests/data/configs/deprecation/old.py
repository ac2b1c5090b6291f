_base_ = './new.py'
_deprecation_ = dict(expected='new.py', reference='https://example.org/changelog')
