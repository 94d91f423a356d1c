# Long runs of the durability and hostile-input harness (issue 7), included by the Makefile.
# `make test` runs the same suites with bounded sizes; WALRUS_SOAK=1 turns each up:
#   power-loss properties 200 runs per mode, broker SIGKILL loop 12 kills x 3 x 4000 records,
#   broker power loss 12 cuts,
#   engine SIGKILL loop 15 kills, fuzzing 5000 runs, 400 garbage connections.
# Each suite prints its figures; copy them into docs/reliability.md after a soak.
SOAK_SUITES := test/crash test/fuzz

.PHONY: test-soak

test-soak: build
	WALRUS_SOAK=1 npx vitest run --testTimeout=1800000 --hookTimeout=120000 $(SOAK_SUITES)
