# attnchat — build, run, test, bench. `make run` and `make test` are the README's two commands.
SWIFT ?= swift
# The shipped binary: Swift runtime, Foundation, OpenBLAS and ncursesw all linked in.
STATIC_FLAGS = -c release --static-swift-stdlib -Xswiftc -static-executable \
	-Xlinker -lgfortran -Xlinker -lquadmath
BIN = .build/release/attnchat

.PHONY: deps build run test bench clean

deps:
	@Scripts/install-deps

build: deps
	$(SWIFT) build $(STATIC_FLAGS) --product attnchat
	@file -L $(BIN) | grep -q "statically linked" || { echo "$(BIN) is not statically linked" >&2; exit 1; }

run: build
	$(BIN) $(ARGS)

# Unit tests run in a debug build; the command-line tests run the static release binary.
test: build
	ATTNCHAT_BIN=$(CURDIR)/$(BIN) $(SWIFT) test

bench: build
	Scripts/bench

clean:
	rm -rf .build
