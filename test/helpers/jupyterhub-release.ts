/**
 * A fake `pip` for the JupyterHub tests, written into each test Hub's directory and run with
 * `/usr/bin/python3 -E` (so it always sees Debian's JupyterHub, whatever PYTHONPATH says):
 *
 *   fake-pip.py install <site> good|failing   installs "JupyterHub 3.0.0+um1" into <site>
 *   fake-pip.py remove <site>                 uninstalls it (back to Debian's 3.0.0)
 *
 * The release is Debian's JupyterHub copied into <site> (put on PYTHONPATH by the upgrade
 * config's `env`), reporting version 3.0.0+um1, with one more alembic revision on top of 3.0.0's
 * head: "good" adds a nullable column to `users`; "failing" adds it, then raises, which leaves a
 * half-migrated SQLite database behind (alembic runs SQLite DDL without a transaction), the very
 * thing a rollback must repair. Installing twice is the same as installing once.
 */
export const FAKE_PIP = String.raw`
import os, shutil, sys
import jupyterhub
from alembic.script import ScriptDirectory

REVISION = '''"""upgrade-machine test revision"""
revision = "a1b2c3d4e5f6"
down_revision = "%(down)s"
branch_labels = None
depends_on = None

import sqlalchemy as sa
from alembic import op


def upgrade():
    op.add_column("users", sa.Column("um_note", sa.Unicode(255), nullable=True))
    if %(fail)s:
        raise RuntimeError("upgrade-machine test: this migration fails half-way")


def downgrade():
    op.drop_column("users", "um_note")
'''

command, site = sys.argv[1], sys.argv[2]
target = os.path.join(site, "jupyterhub")
if command == "remove":
    shutil.rmtree(target, ignore_errors=True)
    sys.exit(0)
kind = sys.argv[3]
assert command == "install" and kind in ("good", "failing"), sys.argv
source = os.path.dirname(jupyterhub.__file__)
down = ScriptDirectory(os.path.join(source, "alembic")).get_current_head()
staging = target + ".staging"
shutil.rmtree(staging, ignore_errors=True)
shutil.copytree(source, staging, ignore=shutil.ignore_patterns("__pycache__"))
with open(os.path.join(staging, "_version.py"), "a") as f:
    f.write('\n__version__ = "3.0.0+um1"\n')
with open(os.path.join(staging, "alembic", "versions", "a1b2c3d4e5f6_um_test.py"), "w") as f:
    f.write(REVISION % {"down": down, "fail": kind == "failing"})
shutil.rmtree(target, ignore_errors=True)
os.makedirs(site, exist_ok=True)
os.rename(staging, target)
`;
