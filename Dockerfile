# perfgate as a container image, for load generators on Kubernetes (deploy/kubernetes/) or
# anywhere else: `docker build -t perfgate .` then `docker run --rm perfgate run ...`.
#
# Two stages: the build (the Rust toolchain, the sources) and the runtime, which holds only
# the binary, CA certificates and the C runtime it links (distroless `cc`, glibc: its allocator
# keeps the generator fast where musl's would slow it), and runs as a non-root user. rustls is
# built in, so there is no OpenSSL in either stage.

FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY benches benches
COPY examples examples
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin perfgate \
    && cp target/release/perfgate /usr/local/bin/perfgate
# The working folder of the runtime image, owned by its non-root user (reports/ go here).
RUN mkdir -p /rootfs/work

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /usr/local/bin/perfgate /usr/local/bin/perfgate
COPY --from=build --chown=65532:65532 /rootfs/work /work
WORKDIR /work
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/perfgate"]
CMD ["--help"]
