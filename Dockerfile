# syntax=docker/dockerfile:1
# mcload in a container, for the Kubernetes Indexed Job in deploy/kubernetes/
# (or any other place that runs images):
#
#   docker build -t mcload:dev .
#   docker run --rm mcload:dev run --help
#
# Two stages: a Rust builder makes the release binary from the locked
# dependencies; the runtime is distroless's `cc` image (glibc, libgcc, CA
# certificates for rustls-native-certs, no shell), because mcload links glibc
# dynamically. The image is about 50 MB: ~25 MB of runtime, ~25 MB of binary
# (line tables kept, so a panic's backtrace names file and line).
# It runs as distroless's unprivileged `nonroot` user (65532).

# The builder's Rust is the crate's rust-version (Cargo.toml), on the
# runtime's Debian release, so the binary needs no newer glibc than it has.
FROM rust:1.88-slim-bookworm AS build
WORKDIR /src
COPY . .
# The cache mounts keep the registry and the build between image builds
# (BuildKit, the default builder since Docker 23); the binary is copied
# out because a cache mount is not part of the layer.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin mcload \
    && cp target/release/mcload /usr/local/bin/mcload

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /usr/local/bin/mcload /usr/local/bin/mcload
# Numeric, so the kubelet can check `runAsNonRoot` (deploy/kubernetes/job.yaml).
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/mcload"]
CMD ["--help"]
