#!/usr/bin/env bash
# The official e-invoice rules for offline validation, fetched from Maven Central and cached:
# CEN EN 16931 schematron (EUPL-1.2) and KoSIT XRechnung schematron (Apache-2.0), both compiled to XSLT,
# as packaged unmodified in the phive-rules jars. Prints the folder to use as CLOUDBILL_RULES_DIR.
set -euo pipefail
CACHE="${CLOUDBILL_CACHE:-$HOME/.cache/cloudbill}"
PHIVE=3.2.2 EN=1.3.13 XR=3.0.2
OUT="$CACHE/rules/phive-$PHIVE"
if [ ! -f "$OUT/.complete" ]; then
  for artifact in phive-rules-en16931 phive-rules-xrechnung; do
    mvn -q -B dependency:get -Dartifact="com.helger.phive.rules:$artifact:$PHIVE" -Dtransitive=false -Dmaven.repo.local="$CACHE/m2" >&2
  done
  rm -rf "$OUT"; mkdir -p "$OUT/en16931" "$OUT/xrechnung"
  jar() { echo "$CACHE/m2/com/helger/phive/rules/$1/$PHIVE/$1-$PHIVE.jar"; }
  unzip -q -j -o "$(jar phive-rules-en16931)" "external/schematron/$EN/cii/EN16931-CII-validation.xslt" "external/schematron/$EN/ubl/EN16931-UBL-validation.xslt" LICENSE -d "$OUT/en16931"
  unzip -q -j -o "$(jar phive-rules-xrechnung)" "external/schematron/$XR/XRechnung-CII-validation.xslt" "external/schematron/$XR/XRechnung-UBL-validation.xslt" LICENSE -d "$OUT/xrechnung"
  touch "$OUT/.complete"
fi
echo "$OUT"
