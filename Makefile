# attnchat — build, run, test, bench. `make run` and `make test` are the README's two commands.
SWIFT ?= swift
# The shipped binary: Swift runtime, Foundation, OpenBLAS and ncursesw all linked in.
# OpenBLAS's kernels for the two families attnchat selects (Sources/CBLAS/CBLAS.c): every other
# family's table is defined as one of them, so the linker leaves its kernels in the archive
# (17 of 19 families, ~19 MB; attnchat itself needs AVX2 + FMA, so SSE-era kernels never run).
BLAS_OLDER = PRESCOTT CORE2 PENRYN DUNNINGTON NEHALEM OPTERON OPTERON_SSE3 BARCELONA BOBCAT ATOM \
	NANO SANDYBRIDGE BULLDOZER PILEDRIVER STEAMROLLER EXCAVATOR ZEN
BLAS_PRUNE = $(foreach f,$(BLAS_OLDER),-Xlinker --defsym=gotoblas_$(f)=gotoblas_HASWELL) \
	-Xlinker --defsym=gotoblas_COOPERLAKE=gotoblas_SKYLAKEX
STATIC_FLAGS = -c release --static-swift-stdlib -Xswiftc -static-executable \
	-Xlinker -lgfortran -Xlinker -lquadmath $(BLAS_PRUNE)
BIN = .build/release/attnchat

.PHONY: deps build run test bench clean

deps:
	@Scripts/install-deps

# A freshly linked binary's debug information and symbol table move to $(BIN).debug, which gdb and
# Swift's backtracer find through the binary's .gnu_debuglink; the shipped file keeps neither.
build: deps
	$(SWIFT) build $(STATIC_FLAGS) --product attnchat
	@file -L $(BIN) | grep -q "statically linked" || { echo "$(BIN) is not statically linked" >&2; exit 1; }
	@if readelf -S $(BIN) | grep -q '\.debug_info'; then \
		objcopy --only-keep-debug $(BIN) $(BIN).debug && \
		objcopy --strip-unneeded --add-gnu-debuglink=$(BIN).debug $(BIN); \
	fi

run: build
	$(BIN) $(ARGS)

# Unit tests run in a debug build; the command-line tests run the static release binary.
test: build
	ATTNCHAT_BIN=$(CURDIR)/$(BIN) $(SWIFT) test

bench: build
	Scripts/bench

clean:
	rm -rf .build
