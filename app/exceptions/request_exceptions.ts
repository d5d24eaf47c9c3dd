import DomainException from '#exceptions/domain_exception'

/*
 * Requests refused for how they are sent, before any body is read. There
 * is no form to go back to (the session is not even loaded yet): the
 * handler renders them as the error page or as JSON.
 */

/**
 * A request body with a Content-Encoding other than identity. No client
 * of ours compresses request bodies; decoding them would only expose the
 * decompressor to bombs, broken streams and aborted bodies (a cut gzip
 * stream whose client went away never ends).
 */
export class UnsupportedContentEncodingException extends DomainException {
  static status = 415
  static code = 'E_UNSUPPORTED_CONTENT_ENCODING'
  static message =
    'Compressed request bodies are not accepted. Send the body without Content-Encoding.'
  rendersPage = true
}
