#!/usr/bin/python3
"""roundcube_drive.py - drives Roundcube in headless Chromium as an owner
would: log in, open Settings > Filters, create the filter
"Subject contains SUBJECT -> move to FOLDER", save, and take a screenshot
of the saved filter.  Used by rc_roundcube.sh (make roundcube-check).

usage: roundcube_drive.py URL USER PASSWORD SUBJECT FOLDER SCREENSHOT PROFILE
"""
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

url, user, password, subject, folder, shot, profile = sys.argv[1:8]

opts = webdriver.ChromeOptions()
for arg in ("--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--window-size=1280,800",
            "--user-data-dir=" + profile):
    opts.add_argument(arg)
opts.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"),
                          options=opts)
wait = WebDriverWait(driver, 60)


def step(what):
    print("roundcube:", what, flush=True)


try:
    step("log in")
    driver.get(url + "/?_task=login")
    wait.until(ec.presence_of_element_located((By.ID, "rcmloginuser")))
    driver.find_element(By.ID, "rcmloginuser").send_keys(user)
    driver.find_element(By.ID, "rcmloginpwd").send_keys(password)
    driver.find_element(By.ID, "rcmloginsubmit").click()
    wait.until(ec.presence_of_element_located((By.ID, "messagelist")))

    step("open the filters")
    driver.get(url + "/?_task=settings&_action=plugin.managesieve")
    wait.until(ec.presence_of_element_located((By.ID, "filterslist")))

    step("create a filter")
    create = wait.until(ec.element_to_be_clickable(
        (By.CSS_SELECTOR, "a.create[onclick*='managesieve-add']")))
    create.click()
    wait.until(ec.frame_to_be_available_and_switch_to_it(
        (By.ID, "filter-box")))
    wait.until(ec.presence_of_element_located((By.ID, "_name")))
    driver.find_element(By.ID, "_name").send_keys("Move " + subject)
    def first(css):
        return driver.find_element(By.CSS_SELECTOR, css)

    Select(first("select[name^='_header']")).select_by_value("subject")
    Select(first("select[name^='_rule_op']")).select_by_value("contains")
    first("input[name^='_rule_target']").send_keys(subject)
    Select(first("select[name^='_action_type']")).select_by_value(
        "fileinto")
    Select(first("select[name^='_action_mailbox']")).select_by_value(folder)

    step("save")
    driver.find_element(By.XPATH, "//button[contains(., 'Save')] | "
                        "//input[@type='submit' and @value='Save']").click()
    driver.switch_to.default_content()
    # The list shows the saved filter once the server said OK.
    wait.until(ec.text_to_be_present_in_element(
        (By.ID, "filterslist"), "Move " + subject))
    time.sleep(1)
    step("screenshot")
    driver.save_screenshot(shot)
except Exception:
    # What the browser showed, for the test's log.
    driver.switch_to.default_content()
    driver.save_screenshot(profile + "/failed.png")
    with open(profile + "/failed.html", "w") as f:
        f.write(driver.page_source)
    print("roundcube: failed; page in", profile + "/failed.{png,html}")
    raise
finally:
    driver.quit()
print("roundcube: ok")
