"""Regenerate every reference fixture: /usr/bin/python3 tools/make_refs.py [arch ...]  (npm run refs).

Runs make(outdir) of each tools/refs/<arch>.py (except common.py) into test/fixtures/models/.
"""
import importlib
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, 'refs'))
out = os.path.join(here, '..', 'test', 'fixtures', 'models')
names = sys.argv[1:] or sorted(f[:-3] for f in os.listdir(os.path.join(here, 'refs')) if f.endswith('.py') and f != 'common.py')
for n in names:
    print(f'== {n}', flush=True)
    importlib.import_module(n).make(out)
