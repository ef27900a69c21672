// Package listen opens the listener clients connect to.
//
// A TCP address is opened as net.Listen opens it. A unix socket path gets
// what a socket shared with other containers needs and net.Listen does not
// give:
//
//   - a live socket (another process accepts connections on it, such as a
//     second instance started by mistake) is never replaced: Open fails and
//     the first instance keeps its clients;
//   - a stale socket (a file nobody accepts on, left by a killed instance) is
//     replaced, and a path that is not a socket is never touched;
//   - the socket file has the configured mode and group from the moment it
//     appears at its path: it is bound in a private directory, given its mode
//     and group there, and then linked into place, so no client ever sees it
//     more open than configured;
//   - on Close the file is removed only if it is still the one this listener
//     created, so an instance never deletes a socket that another one owns.
package listen
