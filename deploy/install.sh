#!/usr/bin/env bash
# Installs what cloudbill itself needs on a fresh Debian machine: uv (pinned), the locked
# Python environment in .venv, and the system libraries WeasyPrint renders PDFs with.
# Idempotent and cached under ~/.cache/cloudbill so a second run takes seconds.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${CLOUDBILL_CACHE:-$HOME/.cache/cloudbill}"
UV_VERSION="0.13.9"
mkdir -p "$CACHE"

# The interpreter .venv runs on: Debian's python3.11 unless CLOUDBILL_PYTHON names another. Debian builds it with
# profile-guided optimisation and libpython linked into the executable; a plain source build (pyenv's default,
# libpython as a shared library, no PGO) ran the rating benchmark about a quarter slower on this machine.
PYTHON="${CLOUDBILL_PYTHON:-/usr/bin/python3.11}"

need_apt=()
[ -x "$PYTHON" ] || [ -n "${CLOUDBILL_PYTHON:-}" ] || need_apt+=(python3.11)
for pkg in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing system packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

UVBOOT="$CACHE/uv-$UV_VERSION"
if [ ! -x "$UVBOOT/bin/uv" ]; then
  python3 -m venv "$UVBOOT"
  "$UVBOOT/bin/pip" install -q "uv==$UV_VERSION"
fi
export UV_CACHE_DIR="$CACHE/uv" UV_PROJECT_ENVIRONMENT="$REPO/.venv" UV_PYTHON_DOWNLOADS=never UV_PYTHON="$PYTHON"
cd "$REPO"
"$UVBOOT/bin/uv" sync --frozen --quiet
echo "cloudbill installed in $REPO/.venv"
