# Shortcuts; each target is a script in deploy/ that works without make too.
.PHONY: install run test infra-up infra-down run-distributed bench openapi

install:
	bash deploy/install.sh
run:
	bash deploy/run-embedded.sh
test:
	bash deploy/test-all.sh
infra-up:
	bash deploy/local/stack.sh up
infra-down:
	bash deploy/local/stack.sh down
run-distributed:
	bash deploy/run-distributed.sh
bench:
	bash deploy/bench.sh
openapi:
	.venv/bin/python -m cloudbill.openapi_export
