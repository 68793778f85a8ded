# What Jaeger clients send to the agent port over UDP: one oneway emitBatch message per datagram
# (jaeger-idl thrift/agent.thrift; the older emitZipkinBatch is not served).

include "jaeger.thrift"

namespace py agent

service Agent {
  oneway void emitBatch(1: jaeger.Batch batch)
}
