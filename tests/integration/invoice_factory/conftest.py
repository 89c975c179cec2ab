import pytest

from tests.support.pg import require


@pytest.fixture
def rules_available() -> None:
    """The official CEN/KoSIT rules come from deploy/local/rules.sh; without them validation tests cannot run."""
    require("CLOUDBILL_RULES_DIR")
