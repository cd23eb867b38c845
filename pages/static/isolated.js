// A <div> that is a Vue component of its own. NiceGUI re-renders from the nearest component
// above an element that changed, through everything under it (pages/isolated.py).
export default {
  template: `<div><slot></slot></div>`,
};
