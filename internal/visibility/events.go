package visibility

// engineEventKeys are the attributes the engine adds to a container event
// next to the container's labels (the action's own, then "image" and
// "name"). A label of the same name is overwritten by them in the event.
var engineEventKeys = map[string]bool{
	"image": true, "name": true, "exitCode": true, "execDuration": true, "signal": true,
	"oldName": true, "execID": true, "comment": true, "imageID": true, "imageRef": true, "path": true,
}

// EventLabels returns the labels a container event's attributes carry: every
// attribute but those the engine adds. A label criterion therefore never
// matches an action attribute (a die event's "exitCode"); a label that an
// engine attribute overwrote is lost, which can only hide, never show.
func EventLabels(attrs map[string]string) map[string]string {
	labels := make(map[string]string, len(attrs))
	for k, v := range attrs {
		if !engineEventKeys[k] {
			labels[k] = v
		}
	}
	return labels
}
