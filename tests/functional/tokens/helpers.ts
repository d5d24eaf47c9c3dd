/** A request with exactly these bytes and headers (the api client would re-encode a broken body). */
export function rawRequest(
  method: string,
  path: string,
  body: string,
  headers: Record<string, string> = { 'content-type': 'application/json' }
) {
  return fetch(`http://${process.env.HOST}:${process.env.PORT}${path}`, {
    method,
    headers: { accept: 'application/json', ...headers },
    body,
  })
}
