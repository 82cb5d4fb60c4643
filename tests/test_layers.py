"""tools/check_layers.py keeps the tree to ARCHITECTURE.md: it passes on this
checkout and fails, naming the import or layer, on copies of it with an upward
import, a lazy one, a loop, a reach through the package root, an unplaced
module or a layer over its line budget."""
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "tools", "check_layers.py")


def check_layers(root):
    done = subprocess.run([sys.executable, SCRIPT, "--root", str(root)], capture_output=True,
                          text=True, timeout=60)
    return done.returncode, done.stdout, done.stderr


@pytest.fixture
def tree(tmp_path):
    """A copy of the package's sources and the map, to break on purpose."""
    shutil.copytree(os.path.join(ROOT, "edgeinfer"), tmp_path / "edgeinfer",
                    ignore=shutil.ignore_patterns("*.so", "*.c", "__pycache__", "data"))
    shutil.copy(os.path.join(ROOT, "ARCHITECTURE.md"), tmp_path)
    return tmp_path


def append(path, text):
    with open(path, "a") as f:
        f.write(text)


def test_this_tree_keeps_its_layers():
    code, out, err = check_layers(ROOT)
    assert code == 0, err
    assert "no cycle" in out


def test_upward_import_fails_naming_it(tree):
    append(tree / "edgeinfer/kernels/dense.py", "\nfrom ..commands import run as _run\n")
    code, _, err = check_layers(tree)
    assert code == 1
    assert "edgeinfer/kernels/dense.py" in err and "edgeinfer.commands.run (layer commands)" in err
    assert "from edgeinfer.kernels.dense (layer kernels)" in err


def test_lazy_import_inside_a_function_counts(tree):
    append(tree / "edgeinfer/model.py", "\n\ndef _late():\n    from .run.pipeline import Pipeline\n"
                                        "    return Pipeline\n")
    code, _, err = check_layers(tree)
    assert code == 1 and "edgeinfer.run.pipeline (layer run)" in err and "model.py" in err


def test_import_loop_within_a_layer_fails(tree):
    append(tree / "edgeinfer/sinks/jsonl.py", "\nfrom . import csvfile as _csv\n")
    append(tree / "edgeinfer/sinks/csvfile.py", "\nfrom . import jsonl as _jsonl\n")
    code, _, err = check_layers(tree)
    assert code == 1 and "import cycle:" in err
    assert "edgeinfer.sinks.csvfile" in err and "edgeinfer.sinks.jsonl" in err


def test_reaching_through_the_package_root_fails(tree):
    append(tree / "edgeinfer/convert/verify.py", "\n\ndef _late():\n    from .. import preprocess\n"
                                                 "    return preprocess\n")
    code, _, err = check_layers(tree)
    assert code == 1 and "`from .. import preprocess` reaches through the package root" in err


def test_a_module_in_no_layer_fails(tree):
    (tree / "edgeinfer/serving.py").write_text('"""Somewhere to put things."""\n')
    code, _, err = check_layers(tree)
    assert code == 1 and "module edgeinfer.serving is in no layer" in err


def test_a_layer_over_its_line_budget_fails(tree):
    append(tree / "edgeinfer/errors.py", "\n" * 200)
    code, _, err = check_layers(tree)
    assert code == 1 and "layer base has" in err and "over its budget" in err
