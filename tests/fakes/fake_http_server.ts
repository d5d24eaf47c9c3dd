import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

/**
 * The HTTP server of a fake, on 127.0.0.1. `listen(port = 0)` answers the
 * port it got; `close()` first destroys every open connection, so closing
 * never waits on a client's kept-alive socket (and can listen again after).
 */
export class FakeHttpServer {
  readonly server: Server
  private sockets = new Set<Socket>()

  constructor(handler: RequestListener) {
    this.server = createServer(handler)
    this.server.on('connection', (socket) => {
      this.sockets.add(socket)
      socket.once('close', () => this.sockets.delete(socket))
    })
  }

  async listen(port = 0) {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve))
    return (this.server.address() as AddressInfo).port
  }

  async close() {
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>((resolve) =>
      this.server.listening ? this.server.close(() => resolve()) : resolve()
    )
  }
}
