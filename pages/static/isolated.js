// A <div> that is a Vue component of its own (pages/isolated.py).
//
// NiceGUI re-renders from the nearest component above an element that changed, and hands
// every component below new slot functions, which makes Vue redraw all of them. Here the
// children's vnodes are made in a computed: it reads the children's data, so it runs again
// when one of them changes, or when this element's own children do (`kids`, their ids), and
// not when only a component above re-renders. Then the same vnodes come back, memoised as
// Vue's v-memo does it, and Vue skips them: a new turn no longer redraws the turns above it.
import { computed, Fragment, h, withMemo } from "vue";

export default {
  props: { kids: { type: String, default: "" } },
  setup(props, { slots }) {
    const children = computed(() => {
      void props.kids;
      return slots.default ? slots.default() : [];
    });
    const cache = [];
    return () =>
      h("div", null, [withMemo([children.value], () => h(Fragment, null, children.value), cache, 0)]);
  },
};
