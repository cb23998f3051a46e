// The hand-in page's two helpers: an upload with a progress bar, and a result that arrives
// without a reload. Without JavaScript, the form posts and the page is reloaded by hand.
"use strict";

function sendWithProgress(form) {
  const bar = document.getElementById("progress");
  const error = document.getElementById("upload-error");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "application/json");
    bar.hidden = false;
    bar.value = 0;
    error.hidden = true;
    request.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
    });
    request.addEventListener("load", () => {
      let answer = {};
      try { answer = JSON.parse(request.responseText); } catch (_) { answer = {error: request.responseText}; }
      if (request.status === 201 && answer.id) {
        window.location.assign("/me/uploads/" + answer.id);
      } else {
        bar.hidden = true;
        error.textContent = answer.error || request.statusText;
        error.hidden = false;
      }
    });
    request.addEventListener("error", () => {
      bar.hidden = true;
      error.textContent = "network error";
      error.hidden = false;
    });
    request.send(new FormData(form));
  });
}

function awaitResult(section) {
  let delay = 500;
  const poll = () => {
    fetch(section.dataset.statusUrl, {headers: {Accept: "application/json"}, credentials: "same-origin"})
      .then((response) => response.json())
      .then((status) => {
        if (status.html) {
          section.innerHTML = status.html;
          section.dataset.state = status.state;
        } else {
          delay = Math.min(delay * 1.5, 3000);
          setTimeout(poll, delay);
        }
      })
      .catch(() => setTimeout(poll, 3000));
  };
  setTimeout(poll, delay);
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("upload");
  if (form) sendWithProgress(form);
  const section = document.getElementById("result");
  if (section && (section.dataset.state === "queued" || section.dataset.state === "grading")) awaitResult(section);
});

// The rubric page, from the keyboard: keys 1-9 choose a level, Enter saves and goes to the next student.
function scoreFromKeyboard(form) {
  document.addEventListener("keydown", (event) => {
    const typing = event.target instanceof HTMLInputElement && event.target.type !== "radio";
    if (typing || event.altKey || event.ctrlKey || event.metaKey) return;
    const level = form.querySelector(`input[data-key="${event.key}"]`);
    if (level) {
      level.checked = true;
      level.focus();
      event.preventDefault();
    } else if (event.key === "Enter" && !(event.target instanceof HTMLButtonElement)) {
      form.requestSubmit();
      event.preventDefault();
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const rubric = document.getElementById("rubric-form");
  if (rubric) scoreFromKeyboard(rubric);
});
