package images

// InMirror is where an image is held in a registry mirror (HOST or HOST/PATH): under its path
// without the original registry host, with its tag or digest, e.g. quay.io/strimzi/operator:0.33.2
// as HOST/PATH/strimzi/operator:0.33.2. It is the name the values keys of a Report make the
// charts render, so a push into the mirror uses it too.
func InMirror(image, mirror string) string { return parseRef(image).in(mirror) }
